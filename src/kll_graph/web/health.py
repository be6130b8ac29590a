"""`/-/health`: liveness, and which build is being served."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from kll_graph.exceptions import StoreNotFoundError
from kll_graph.web.context import current_store


def blueprint(app: Flask) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/-/health")
    def health() -> ResponseReturnValue:
        try:
            served = current_store().get()
        except StoreNotFoundError as exc:
            return jsonify({"status": "no store", "message": str(exc)}), 503
        manifest = served.manifest
        return jsonify(
            {
                "status": "ok",
                "build_id": manifest.build_id,
                "sample": manifest.sample,
                "triples": manifest.triples,
                "graphs": [
                    {"iri": g.iri, "version": g.version, "triples": g.triples}
                    for g in manifest.graphs
                ],
            }
        )

    return bp
