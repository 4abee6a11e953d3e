#!/usr/bin/env python3
"""A Kubernetes API emulator for the agent's controller tests: PyPI `kmock` (its
KubernetesEmulator) served over HTTP on 127.0.0.1, with a thin shim.

Usage: kmock_server.py [--host 127.0.0.1] [--port 0]
Prints 'READY http://host:port' when listening; stops on SIGTERM/SIGINT.

What the shim adds to stock kmock 0.8: resourceVersion (a global counter), uid,
creationTimestamp and generation (bumped when anything but status/metadata changes);
server-side apply of a missing object creates it; `dryRun=All` computes the result and
stores nothing; a write to the `status` subresource changes only `.status`; equality-based
label selectors on list and watch; a numeric list resourceVersion; CRDs report Established;
ServiceAccount tokens (TokenRequest) that its TokenReview recognises, so that a Vault-compatible
server's kubernetes auth method can be pointed at it.

It is NOT an API server: no field ownership or managedFields (an apply is a recursive merge,
so a field removed from Git is not removed here), no conflicts, no optimistic concurrency,
no watch resume (a watch replays all objects as ADDED), no PUT, no defaulting or validation,
no garbage collection, no RBAC or impersonation. Tests against it show the controller's flow;
server-side-apply semantics need a real cluster (SIGIL_TEST_KUBECONFIG).
"""
import argparse, asyncio, base64, copy, datetime, itertools, json, os, signal, time, uuid

import aiohttp.web, attrs, kmock
from kmock._internal import enums, k8s

# Kubernetes' own reasons (clients such as kube-rs test the reason, not only the code).
_REASONS = {404: "NotFound", 409: "AlreadyExists"}

RESOURCES = {
    "v1/namespaces": dict(kind="Namespace", singular="namespace", namespaced=False),
    "v1/secrets": dict(kind="Secret", singular="secret", namespaced=True),
    "v1/configmaps": dict(kind="ConfigMap", singular="configmap", namespaced=True),
    "v1/serviceaccounts": dict(kind="ServiceAccount", singular="serviceaccount", namespaced=True),
    "v1/services": dict(kind="Service", singular="service", namespaced=True),
    "v1/events": dict(kind="Event", singular="event", namespaced=True),
    "events.k8s.io/v1/events": dict(kind="Event", singular="event", namespaced=True),
    "coordination.k8s.io/v1/leases": dict(kind="Lease", singular="lease", namespaced=True),
    "apps/v1/deployments": dict(kind="Deployment", singular="deployment", namespaced=True, subresources={"status"}),
    "networking.k8s.io/v1/ingresses": dict(kind="Ingress", singular="ingress", namespaced=True),
    "apiextensions.k8s.io/v1/customresourcedefinitions": dict(
        kind="CustomResourceDefinition", singular="customresourcedefinition", namespaced=False),
    "bitnami.com/v1alpha1/sealedsecrets": dict(kind="SealedSecret", singular="sealedsecret", namespaced=True),
    "authentication.k8s.io/v1/tokenreviews": dict(kind="TokenReview", singular="tokenreview", namespaced=False),
    "sigil.dev/v1alpha1/gitsources": dict(kind="GitSource", singular="gitsource", namespaced=True, subresources={"status"}),
    "sigil.dev/v1alpha1/syncs": dict(kind="Sync", singular="sync", namespaced=True, subresources={"status"}),
}
VERBS = {"get", "list", "watch", "create", "patch", "delete"}
_rv = itertools.count(1)
_tokens = {}  # token -> (namespace, service account, audiences)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _issue(namespace, name, spec):
    """A ServiceAccount token shaped like the API server's (a JWS; the signature is random:
    whoever checks it must ask TokenReview, as Vault's kubernetes auth does without pem_keys)."""
    now = int(time.time())
    exp = now + int(spec.get("expirationSeconds") or 3600)
    auds = spec.get("audiences") or ["https://kubernetes.default.svc"]
    claims = {"iss": "https://kubernetes.default.svc", "sub": f"system:serviceaccount:{namespace}:{name}",
              "aud": auds, "iat": now, "nbf": now, "exp": exp,
              "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}"))}}}
    token = ".".join([_b64(json.dumps({"alg": "RS256", "kid": "kmock"}).encode()),
                      _b64(json.dumps(claims).encode()), _b64(os.urandom(256))])
    _tokens[token] = (namespace, name, auds)
    expires = datetime.datetime.fromtimestamp(exp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {**spec, "audiences": auds}, "status": {"token": token, "expirationTimestamp": expires}}


def _review(spec):
    found = _tokens.get(spec.get("token", ""))
    if not found:
        return {"authenticated": False, "error": "invalid bearer token"}
    namespace, name, auds = found
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}"))
    return {"authenticated": True, "audiences": spec.get("audiences") or auds,
            "user": {"username": f"system:serviceaccount:{namespace}:{name}", "uid": uid,
                     "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]}}


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sel_ok(labels, selector):
    if not selector:
        return True
    for term in (t.strip() for t in selector.split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("==", 1) if "==" in term else term.split("=", 1)
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _merge(base, patch):
    """RFC 7386 merge (what kmock does for a dict patch): null deletes, dicts recurse."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def _spec_part(obj):
    return {k: v for k, v in obj.items() if k not in ("status", "metadata")}


@attrs.define(kw_only=True)
class ShimmedEmulator(kmock.KubernetesEmulator):
    async def _render_error(self, exc):
        if isinstance(exc, k8s.KubernetesError):
            return aiohttp.web.json_response({
                "apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                "code": exc.status, "reason": _REASONS.get(exc.status, exc.reason), "message": exc.message,
            }, status=exc.status)
        return await super()._render_error(exc)

    async def _handle(self, request):
        # kmock keeps every request and every object version for assertions; a long run (the
        # scale bench) would drown in them (and in the garbage collector's walks over them).
        if len(self._requests) > 1000:
            del self._requests[:-100]
        if request.resource is not None and isinstance(request.data, (dict, list)):
            key = (request.resource, request.namespace, request.name)
            current = None
            if key in self.objects and not self.objects[key].deleted:
                current = self.objects[key].raw
            dry = request.params.get("dryRun") == "All"
            if request.action == enums.action.UPDATE and request.name is not None and isinstance(request.data, dict):
                apply = request.headers.get("Content-Type", "").startswith("application/apply-patch")
                data = request.data
                if request.subresource == "status":
                    data = {"status": data.get("status")}
                elif apply:
                    data = {k: v for k, v in data.items() if k != "status"}
                if current is None and not apply:
                    return aiohttp.web.json_response(
                        {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                         "message": f"{request.name} not found", "code": 404}, status=404)
                merged = _merge(current or {}, data)
                md = merged.setdefault("metadata", {})
                if current is None:
                    md.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
                    if request.namespace:
                        md["namespace"] = request.namespace
                elif _spec_part(merged) != _spec_part(current):
                    md["generation"] = int((current.get("metadata") or {}).get("generation", 1)) + 1
                if current is not None and merged == current and not dry:
                    return aiohttp.web.json_response(current, status=200)
                if dry:
                    return aiohttp.web.json_response(merged, status=200 if current else 201)
                md["resourceVersion"] = str(next(_rv))
                if merged.get("kind") == "CustomResourceDefinition":
                    merged["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
                async with self._lock:
                    if key not in self.objects:
                        self.objects[key] = merged
                    else:
                        self.objects[key].create(merged)
                        history = self.objects[key].history
                        if len(history) > 4:
                            del history[:-2]
                    raw = self.objects[key].raw
                    event = "ADDED" if current is None else "MODIFIED"
                    await self._buses[request.resource].put({"type": event, "object": raw})
                return aiohttp.web.json_response(raw, status=201 if current is None else 200)
            if request.method == "POST" and request.subresource == "token" and request.resource.plural == "serviceaccounts":
                spec = request.data.get("spec") or {} if isinstance(request.data, dict) else {}
                return aiohttp.web.json_response(_issue(request.namespace, request.name, spec), status=201)
            if request.action == enums.action.CREATE and isinstance(request.data, dict):
                if request.resource.plural == "tokenreviews":
                    out = dict(request.data, status=_review(request.data.get("spec") or {}))
                    return aiohttp.web.json_response(out, status=201)
                if dry:
                    return aiohttp.web.json_response(request.data, status=201)
                md = request.data.setdefault("metadata", {})
                md.update(resourceVersion=str(next(_rv)), uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
                if request.namespace and "namespace" not in md:
                    md["namespace"] = request.namespace
        return await super()._handle(request)

    async def _serve_fetch(self, request):
        # A direct lookup (kmock scans every object, which is slow with thousands).
        key = (request.resource, request.namespace, request.name)
        if key in self.objects and not self.objects[key].deleted:
            return self.objects[key].raw
        raise k8s.KubernetesObjectNotFoundError()

    async def _serve_list(self, request):
        out = await super()._serve_list(request)
        sel = request.params.get("labelSelector")
        out["items"] = [o for o in out["items"] if _sel_ok((o.get("metadata") or {}).get("labels") or {}, sel)]
        out["metadata"]["resourceVersion"] = str(next(_rv))
        return out

    async def _serve_watch(self, request):
        sel = request.params.get("labelSelector")
        async for ev in super()._serve_watch(request):
            if isinstance(ev, dict) and not _sel_ok(((ev.get("object") or {}).get("metadata") or {}).get("labels") or {}, sel):
                continue
            yield ev


async def main(host, port):
    async with ShimmedEmulator() as k, kmock.Server(k, host=host, port=port) as srv:
        for key, info in RESOURCES.items():
            k.resources[key] = kmock.ResourceInfo(verbs=VERBS, **info)
        print(f"READY {srv.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    asyncio.run(main(a.host, a.port))
