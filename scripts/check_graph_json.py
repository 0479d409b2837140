#!/usr/bin/python3
"""Checks a graph.json against circuit-tracer's pydantic models (circuit_tracer/frontend/graph_models.py: Metadata, QParams,
Node, Link, Model), field by field, without circuit-tracer installed: every required field present with its type, the
optional ones of the right type when present, node ids unique, every link between listed nodes, feature types among
circuit-tracer's four or the two this tool writes for residual-stream SAEs (graph_models.py takes any string; its
viewer draws a type holding "error" as an error node, any other as a feature). Prints "ok: N nodes, M links" or the first fault, exiting 1.

Run: /usr/bin/python3 scripts/check_graph_json.py OUT/graph.json
"""
import json
import sys

# (field, type, required) as graph_models.py declares them; a float field takes an int, as pydantic does.
METADATA = [("slug", str, True), ("scan", str, True), ("transcoder_list", list, True), ("prompt_tokens", list, True),
            ("prompt", str, True), ("node_threshold", (float, type(None)), False)]
QPARAMS = [("pinnedIds", list, True), ("supernodes", list, True), ("linkType", str, True), ("clickedId", str, True), ("sg_pos", str, True)]
NODE = [("node_id", str, True), ("feature", int, True), ("layer", str, True), ("ctx_idx", int, True), ("feature_type", str, True),
        ("token_prob", float, False), ("is_target_logit", bool, False), ("run_idx", int, False), ("reverse_ctx_idx", int, False),
        ("jsNodeId", str, False), ("clerp", str, False), ("influence", (float, type(None)), False), ("activation", (float, type(None)), False)]
LINK = [("source", str, True), ("target", str, True), ("weight", float, True)]
FEATURE_TYPES = {"cross layer transcoder", "mlp reconstruction error", "embedding", "logit",
                 "residual stream sae", "residual reconstruction error"}


def fits(value, kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def check(obj, fields, where):
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: not an object")
    for name, kind, required in fields:
        if name not in obj:
            if required:
                raise ValueError(f"{where}: no {name}")
            continue
        if not fits(obj[name], kind):
            raise ValueError(f"{where}.{name}: {obj[name]!r} is not {kind}")


def main(path):
    with open(path) as fh:
        graph = json.load(fh)
    for key in ("metadata", "qParams", "nodes", "links"):
        if key not in graph:
            raise ValueError(f"no {key}")
    check(graph["metadata"], METADATA, "metadata")
    if not all(isinstance(t, str) for t in graph["metadata"]["prompt_tokens"] + graph["metadata"]["transcoder_list"]):
        raise ValueError("metadata: prompt_tokens and transcoder_list hold strings")
    check(graph["qParams"], QPARAMS, "qParams")
    ids = set()
    for i, node in enumerate(graph["nodes"]):
        check(node, NODE, f"nodes[{i}]")
        if node["node_id"] in ids:
            raise ValueError(f"nodes[{i}]: node_id {node['node_id']} appears twice")
        if node["feature_type"] not in FEATURE_TYPES:
            raise ValueError(f"nodes[{i}]: feature_type {node['feature_type']!r}")
        ids.add(node["node_id"])
    for i, link in enumerate(graph["links"]):
        check(link, LINK, f"links[{i}]")
        for end in ("source", "target"):
            if link[end] not in ids:
                raise ValueError(f"links[{i}]: {end} {link[end]} is no node")
    print(f"ok: {len(graph['nodes'])} nodes, {len(graph['links'])} links")


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except (ValueError, KeyError, OSError, json.JSONDecodeError) as e:
        print(f"error: {e}")
        sys.exit(1)
