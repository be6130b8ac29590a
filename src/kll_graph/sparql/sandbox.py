"""Taking the network away from a process for good: a seccomp filter on `socket()`.

User SPARQL runs in query worker processes (:mod:`kll_graph.sparql.workers`). The engine would
carry out a `SERVICE <url>` clause by connecting to that URL, and the query guard
(:mod:`kll_graph.sparql.lexer`) refusing such queries is one line of defence that depends on
reading the text as the engine does. This is the other line, which depends on nothing the query
says: before a worker opens the store, it installs a seccomp filter under which the kernel
refuses to create any socket but a Unix one (the worker's pipe to its server is a Unix socket
pair, made before). So no query, whatever the guard thought of it, can make a worker open a
connection: the engine's `connect` never happens, because its `socket()` failed with EACCES.

The filter also refuses `io_uring_setup` (io_uring can create sockets without `socket()`) and
every system call made through another ABI than the process's own (x32, or 32-bit calls on a
64-bit kernel, where `socketcall` exists). It cannot be lifted: `no_new_privs` is set first,
and a filter stays for the life of the process and its children.

Where the platform cannot do this (not Linux, or a processor this module has no table for),
:func:`deny_network` raises :class:`~kll_graph.exceptions.SandboxError`, and the worker does not
start: the SPARQL endpoint answers 503 with that message rather than run queries with the
network open (fail closed). Supported: Linux on x86-64 and on AArch64 (arm64).
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct
import sys

from kll_graph.exceptions import SandboxError

# prctl options and seccomp constants (linux/prctl.h, linux/seccomp.h, linux/filter.h).
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_BPF_RET_K = 0x06  # BPF_RET | BPF_K
# Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6].
_NR, _ARCH, _ARG0 = 0, 4, 16
_IO_URING_SETUP = 425  # the same number on every architecture below
_X32_SYSCALL_BIT = 0x40000000

#: By machine: the kernel's audit architecture and the number of socket(2).
_ARCHITECTURES = {
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
}


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def network_filter(machine: str) -> bytes:
    """The BPF program (struct sock_filter[]) that allows every system call except `socket()`
    for any family but AF_UNIX, `io_uring_setup`, and calls through a foreign ABI.

    >>> len(network_filter("x86_64")) // 8  # instructions of 8 bytes each
    11
    """
    if machine not in _ARCHITECTURES:
        raise SandboxError(f"no seccomp table for the processor {machine!r}")
    audit_arch, nr_socket = _ARCHITECTURES[machine]
    deny = _SECCOMP_RET_ERRNO | errno.EACCES
    # Jump offsets count from the next instruction: at 4, "4" lands on 9 (refuse).
    program = [
        _instruction(_BPF_LD_W_ABS, 0, 0, _ARCH),  # 0
        _instruction(_BPF_JEQ_K, 1, 0, audit_arch),  # 1: our ABI -> 3
        _instruction(_BPF_RET_K, 0, 0, deny),  # 2: another ABI (e.g. 32-bit socketcall)
        _instruction(_BPF_LD_W_ABS, 0, 0, _NR),  # 3
        _instruction(_BPF_JGE_K, 4, 0, _X32_SYSCALL_BIT),  # 4: x32 call -> 9
        _instruction(_BPF_JEQ_K, 3, 0, _IO_URING_SETUP),  # 5: io_uring -> 9
        _instruction(_BPF_JEQ_K, 0, 3, nr_socket),  # 6: not socket() -> 10
        _instruction(_BPF_LD_W_ABS, 0, 0, _ARG0),  # 7: the family, low word of args[0]
        _instruction(_BPF_JEQ_K, 1, 0, socket.AF_UNIX),  # 8: AF_UNIX -> 10
        _instruction(_BPF_RET_K, 0, 0, deny),  # 9
        _instruction(_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),  # 10
    ]
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_network() -> None:
    """Install the filter in this process (see the module doc); raise SandboxError if the
    platform cannot, so that the caller can refuse to go on."""
    if not sys.platform.startswith("linux"):
        raise SandboxError(f"network isolation needs Linux seccomp; this is {sys.platform}")
    program = network_filter(platform.machine())
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxError(f"prctl(NO_NEW_PRIVS) failed: {_errno_text()}")
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong]
    if prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0) != 0:
        raise SandboxError(f"prctl(SECCOMP) failed: {_errno_text()}")


def _errno_text() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)} ({code})"


def network_denied() -> bool:
    """Whether this process can no longer make an Internet socket (a check for tests and for
    the worker's start-up): True when `socket(AF_INET)` and `socket(AF_INET6)` both fail."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
        except PermissionError:
            continue
        except OSError as exc:
            if exc.errno == errno.EAFNOSUPPORT:  # a kernel without IPv6: nothing to deny
                continue
            raise
        return False
    return True
