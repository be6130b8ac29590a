"""`/-/health`: liveness, and which build is being served."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from kll_graph.exceptions import StoreNotFoundError
from kll_graph.sparql.remote import RemoteBuilds
from kll_graph.web.context import current_store


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/-/health")
    def health() -> ResponseReturnValue:
        source = current_store()
        try:
            served = source.get()
        except StoreNotFoundError as exc:
            return jsonify({"status": "no store", "message": str(exc)}), 503
        manifest = served.manifest
        backend = {}
        status = 200
        if isinstance(source, RemoteBuilds):  # the replicas as the last health probe saw them
            replicas = source.remote.replicas()
            backend = {"backend": [vars(state).copy() for state in replicas]}
            status = 200 if any(r.healthy for r in replicas) else 503
        return jsonify(
            {
                "status": "ok" if status == 200 else "no backend replica in service",
                "build_id": manifest.build_id,
                "sample": manifest.sample,
                "triples": manifest.triples,
                "graphs": [
                    {"iri": g.iri, "version": g.version, "triples": g.triples}
                    for g in manifest.graphs
                ],
                **backend,
            }
        ), status

    return bp
