"""Closing a replica's outbound network by construction: a seccomp filter that lets a server
listen and answer but never connect anywhere.

The engine carries out `SERVICE <url>` by connecting to that URL, and has no switch to stop it.
A replica must still listen, so the query workers' filter (:mod:`kll_graph.sparql.sandbox`, no
Internet socket at all) would not do. This filter allows `socket()` for Unix, IPv4 and IPv6,
`bind`, `listen`, `accept`, and reading and writing connected sockets, and refuses with EACCES
every system call that sends to a new address:

* `connect()`, for every family (the server never calls it; a resolver or a SERVICE would);
* `sendto()` with a destination address (UDP to anywhere, TCP Fast Open); `send()` is
  `sendto()` with none, and stays allowed for answering on accepted connections;
* `sendmsg()` and `sendmmsg()` (their address is behind a pointer seccomp cannot read);
* `io_uring_setup` (io_uring can connect without the system calls above), every call through a
  foreign ABI (32-bit or x32), and `socket()` of any other family (netlink, packet ...).

The launcher installs it in its own process and then execs the engine: `no_new_privs` is set, and
a filter stays for the life of the process and is inherited by every thread and child, so nothing
the engine does later can lift it. Where the platform cannot (not Linux, another processor), the
replica does not start (:class:`~kll_graph.exceptions.ReplicaError`): it fails closed.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct
import sys

from kll_graph.exceptions import ReplicaError

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EACCES  # SECCOMP_RET_ERRNO | EACCES
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_NR, _ARCH = 0, 4
_IO_URING_SETUP = 425
_X32_BIT = 0x40000000


def _arg(index: int, high: bool = False) -> int:
    """Offset of an argument's low (or high) 32-bit word in struct seccomp_data (little endian)."""
    return 16 + 8 * index + (4 if high else 0)


#: By machine: audit architecture, then the numbers of socket, connect, sendto, sendmsg, sendmmsg.
_ARCHITECTURES = {
    "x86_64": (0xC000003E, 41, 42, 44, 46, 307),
    "aarch64": (0xC00000B7, 198, 203, 206, 211, 269),
}

# A tiny assembler: ("ld", offset), ("ret", value), ("jeq"/"jge", k, if_true, if_false) where
# the targets are labels ("allow", "deny", or a ("label", name) line's name).
_Line = tuple[object, ...]


def _program(machine: str) -> list[_Line]:
    arch, nr_socket, nr_connect, nr_sendto, nr_sendmsg, nr_sendmmsg = _ARCHITECTURES[machine]
    return [
        ("ld", _ARCH),
        ("jeq", arch, "native", "deny"),
        ("label", "native"),
        ("ld", _NR),
        ("jge", _X32_BIT, "deny", "next"),
        ("jeq", _IO_URING_SETUP, "deny", "next"),
        ("jeq", nr_connect, "deny", "next"),
        ("jeq", nr_sendmsg, "deny", "next"),
        ("jeq", nr_sendmmsg, "deny", "next"),
        ("jeq", nr_sendto, "sendto", "next"),
        ("jeq", nr_socket, "socket", "allow"),
        ("label", "sendto"),
        ("ld", _arg(4)),  # dest_addr: allowed only when NULL
        ("jeq", 0, "next", "deny"),
        ("ld", _arg(4, high=True)),
        ("jeq", 0, "allow", "deny"),
        ("label", "socket"),
        ("ld", _arg(0)),  # the address family
        ("jeq", socket.AF_UNIX, "allow", "next"),
        ("jeq", socket.AF_INET, "allow", "next"),
        ("jeq", socket.AF_INET6, "allow", "deny"),
        ("label", "allow"),
        ("ret", _ALLOW),
        ("label", "deny"),
        ("ret", _DENY),
    ]


def _assemble(lines: list[_Line]) -> bytes:
    """BPF bytes of the program; jump targets resolved to offsets from the next instruction."""
    code = [line for line in lines if line[0] != "label"]
    where: dict[object, int] = {}
    position = 0
    for line in lines:
        if line[0] == "label":
            where[line[1]] = position
        else:
            position += 1
    out = []
    for index, line in enumerate(code):
        kind = line[0]
        if kind == "ld":
            out.append(struct.pack("=HBBI", _LD_ABS, 0, 0, line[1]))
        elif kind == "ret":
            out.append(struct.pack("=HBBI", _RET, 0, 0, line[1]))
        else:
            targets = [index + 1 if t == "next" else where[t] for t in line[2:4]]
            jt, jf = (t - index - 1 for t in targets)
            out.append(struct.pack("=HBBI", _JEQ if kind == "jeq" else _JGE, jt, jf, line[1]))
    return b"".join(out)


def outbound_filter(machine: str) -> bytes:
    """The BPF program for `machine` (see the module doc).

    >>> len(outbound_filter("x86_64")) // 8  # instructions of 8 bytes each
    20
    """
    if machine not in _ARCHITECTURES:
        raise ReplicaError(f"no seccomp table for the processor {machine!r}")
    return _assemble(_program(machine))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_outbound() -> None:
    """Install the filter in this process and check it holds; ReplicaError if it cannot."""
    if not sys.platform.startswith("linux"):
        raise ReplicaError(
            f"closing a replica's network needs Linux seccomp; this is {sys.platform}"
        )
    program = outbound_filter(platform.machine())
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise ReplicaError(f"prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    if prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise ReplicaError(f"prctl(SECCOMP) failed: errno {ctypes.get_errno()}")
    if not outbound_denied():
        raise ReplicaError("the seccomp filter is installed but a connection could still be made")


def outbound_denied() -> bool:
    """Whether this process can no longer connect: a TCP connect to loopback (port 9, whatever
    listens there) must fail with EACCES before any packet is sent, not be refused by the peer."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(("127.0.0.1", 9))
        except PermissionError:
            return True
        except OSError:
            return False
    return False
