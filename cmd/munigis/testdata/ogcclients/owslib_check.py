#!/usr/bin/python3
"""Asks a running munigis through OWSLib (Debian's python3-owslib) and prints
what OWSLib read as one JSON object on stdout. It asserts nothing itself:
cmd/munigis/ogcclients_test.go compares the answers with the database, so a
failure there names the client, the request and what came back.

Usage: [MUNIGIS_TOKEN=mgt_...] owslib_check.py BASE_URL OUT_DIR

BASE_URL is the server (http://127.0.0.1:PORT), OUT_DIR a folder for the
GetMap images (the Go test decodes them). $MUNIGIS_TOKEN, an API token, is
sent as "Authorization: Bearer TOKEN" (staff); without it OWSLib asks as the
public.
Run one process per viewer: OWSLib's OGC API classes keep the headers in a
module-level dict, so a token would leak into later anonymous requests.

Every check runs on its own; one that raises reports {"error": ...} with the
request it made and the tail of the exception, and the others still run.
"""

import json
import os
import sys
import traceback
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

from owslib.ogcapi.features import Features
from owslib.wfs import WebFeatureService
from owslib.wms import WebMapService

PARCELS = "cadastre_parcels"
WFS_PARCELS = "munigis:" + PARCELS
INTERNAL = "utility_lines"  # an internal layer: staff only

base, out_dir = sys.argv[1].rstrip("/"), sys.argv[2]
token = os.environ.get("MUNIGIS_TOKEN", "")
headers = {"Authorization": "Bearer " + token} if token else None
who = "staff" if token else "public"

result = {}


def probe(url):
    """What the server answers at url, raw: OWSLib's own errors (an XML
    syntax error, a KeyError) rarely say what came back."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, body = r.status, r.read(400)
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read(400)
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, e)
    return "HTTP %s from %s: %s" % (status, url, body.decode("utf-8", "replace"))


def check(name, asked, capabilities):
    """Runs fn, storing its dict (plus "asked") or the error under name,
    with the raw answer of the capabilities URL to show what the server
    said."""

    def wrap(fn):
        try:
            r = fn()
            r["asked"] = asked
            result[name] = r
        except Exception as e:  # noqa: BLE001 - everything goes to the report
            tail = traceback.format_exc().strip().splitlines()[-6:]
            result[name] = {"asked": asked, "error": "%s: %s" % (type(e).__name__, e), "traceback": tail,
                            "server": probe(capabilities)}
        return fn

    return wrap


def local(tag):
    return tag.rsplit("}", 1)[-1]


def gml_features(data):
    """The features of a WFS GetFeature answer (GML 3.2 or 3.1.1): their
    count, the FeatureCollection's numberMatched/numberOfFeatures, and the
    first feature's gml:id and child elements (attribute name -> text)."""
    root = ET.fromstring(data)
    if local(root.tag) != "FeatureCollection":
        raise ValueError("GetFeature answered <%s>, not a FeatureCollection: %s" % (local(root.tag), data[:300]))
    feats = []
    for el in root:
        if local(el.tag) in ("member", "featureMember", "featureMembers"):
            feats.extend(list(el))
    first = {}
    if feats:
        f = feats[0]
        first["gml_id"] = next((v for k, v in f.attrib.items() if local(k) == "id"), "")
        first["type"] = local(f.tag)
        for c in f:
            if len(c) == 0:
                first[local(c.tag)] = (c.text or "").strip()
    matched = root.attrib.get("numberMatched", root.attrib.get("numberOfFeatures", ""))
    return {"features": len(feats), "numberMatched": matched, "first": first}


def save_png(name, img):
    data = img.read()
    path = os.path.join(out_dir, "owslib-%s-%s.png" % (who, name))
    with open(path, "wb") as f:
        f.write(data)
    return {"image": path, "bytes": len(data), "png": data[:8] == b"\x89PNG\r\n\x1a\n"}


def wms(version):
    url = base + "/wms"

    @check("wms" + version.replace(".", ""), "WebMapService(%s, version=%s) and getmap(layers=[%s], srs=EPSG:4326)"
           % (url, version, PARCELS), url + "?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=" + version)
    def _():
        w = WebMapService(url, version=version, headers=headers, timeout=60)
        r = {"layers": sorted(w.contents), "title": w.identification.title}
        lay = w[PARCELS]
        r["crs"] = sorted(str(c) for c in (lay.crsOptions or []))
        r["bbox4326"] = list(lay.boundingBoxWGS84 or [])
        r["formats"] = w.getOperationByName("GetMap").formatOptions
        minx, miny, maxx, maxy = lay.boundingBoxWGS84
        # OWSLib swaps the BBOX itself for WMS 1.3.0 and EPSG:4326; it is
        # given here x/y (lon/lat) as for every version.
        img = w.getmap(layers=[PARCELS], styles=[""], srs="EPSG:4326", bbox=(minx, miny, maxx, maxy),
                       size=(512, 512), format="image/png", transparent=True)
        r["getmap"] = save_png("wms" + version.replace(".", ""), img)
        return r


def wfs(version):
    url = base + "/wfs"

    @check("wfs" + version.replace(".", ""), "WebFeatureService(%s, version=%s) and getfeature(typename=%s)"
           % (url, version, WFS_PARCELS), url + "?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=" + version)
    def _():
        w = WebFeatureService(url, version=version, headers=headers, timeout=60)
        r = {"layers": sorted(w.contents)}
        r["crs"] = sorted(str(c) for c in (w[WFS_PARCELS].crsOptions or []))
        resp = w.getfeature(typename=[WFS_PARCELS])
        r["getfeature"] = gml_features(resp.read())
        return r


def oapif():
    url = base + "/ogc"

    @check("oapif", "Features(%s): collections(), collection_items(%s, limit=5), then all items 100 at a time"
           % (url, PARCELS), url + "/collections/" + PARCELS + "/items?limit=1")
    def _():
        api = Features(url, headers=headers, timeout=60)
        cols = api.collections()
        r = {"collections": sorted(c["id"] for c in cols.get("collections", []))}
        five = api.collection_items(PARCELS, limit=5)
        r["limit5"] = len(five.get("features", []))
        r["numberMatched"] = five.get("numberMatched")
        first = five["features"][0] if five.get("features") else {}
        r["first"] = {"id": first.get("id"), "identifier": (first.get("properties") or {}).get("identifier")}
        # Count by reading every page, as a harvester does.
        n, offset = 0, 0
        while True:
            page = api.collection_items(PARCELS, limit=100, offset=offset)
            got = len(page.get("features", []))
            n += got
            offset += got
            if got < 100 or offset > 100000:
                break
        r["count"] = n
        return r


for v in ("1.3.0", "1.1.1"):
    wms(v)
for v in ("2.0.0", "1.1.0"):
    wfs(v)
oapif()
json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
print()
