#!/usr/bin/python3
"""Opens munigis in headless QGIS (Debian's python3-qgis) the way a planner
adds it in the desktop's Data Source Manager, and prints what QGIS made of
it as one JSON object on stdout. It asserts nothing itself:
cmd/munigis/ogcclients_test.go compares the answers with the database.

Usage: [MUNIGIS_TOKEN=mgt_...] qgis_check.py BASE_URL OUT_DIR PROFILE_DIR

For each layer in $QGIS_CHECK_LAYERS (comma-separated, default
cadastre_parcels) it loads a WMS layer (provider "wms"), a WFS 2.0.0 layer
(provider "WFS") and an OGC API Features layer (provider "OAPIF"), reports
isValid(), the provider's error, featureCount() and the first feature's
attributes, and renders the WMS layer with QgsMapRendererParallelJob into
OUT_DIR (the Go test decodes the PNG). PROFILE_DIR keeps QGIS's settings
and caches out of $HOME.

$MUNIGIS_TOKEN, an API token, when set signs in the way a planner does in
QGIS 3.22 (Debian 12): a "Basic" authentication configuration with the
username ($MUNIGIS_USER, default admin) and the token as the password,
chosen for each layer (authcfg), which munigis accepts on its OGC services.
Needs QT_QPA_PLATFORM=offscreen (the Go test sets it).
"""

import json
import os
import sys
import traceback

base, out_dir, profile = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
token = os.environ.get("MUNIGIS_TOKEN", "")
names = [n for n in os.environ.get("QGIS_CHECK_LAYERS", "cadastre_parcels").split(",") if n]
who = "staff" if token else "public"

from qgis.core import (  # noqa: E402 - after the arguments, for a quick usage error
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, QEventLoop  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

app = QgsApplication([], False, profile)
app.initQgis()

authcfg = ""
if token:
    am = QgsApplication.authManager()
    # The profile is new, so this sets the master password of its
    # authentication database rather than asking for it.
    am.setMasterPassword("munigis-test-master", True)
    cfg = QgsAuthMethodConfig("Basic")
    cfg.setName("munigis")
    cfg.setConfig("username", os.environ.get("MUNIGIS_USER", "admin"))
    cfg.setConfig("password", token)
    if not am.storeAuthenticationConfig(cfg)[0]:
        print(json.dumps({"error": "QGIS did not store the authentication configuration"}))
        sys.exit(1)
    authcfg = cfg.id()

result = {}


def err_text(layer):
    parts = []
    if layer.error() and not layer.error().isEmpty():
        parts.append(layer.error().summary())
    dp = layer.dataProvider()
    if dp is not None and dp.error() and not dp.error().isEmpty():
        parts.append(dp.error().summary())
    return " | ".join(parts)


def guarded(key, asked, fn):
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - everything goes to the report
        r = {"error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc().strip().splitlines()[-6:]}
    r["asked"] = asked
    result[key] = r


def vector(provider, uri):
    lay = QgsVectorLayer(uri, "v", provider)
    r = {"valid": lay.isValid(), "layerError": err_text(lay)}
    if lay.isValid():
        r["featureCount"] = lay.featureCount()
        # featureCount() may come from the server's numberMatched; iterate
        # too, as a user opening the attribute table would.
        n, first = 0, None
        for f in lay.getFeatures():
            if first is None:
                first = {fld.name(): f[fld.name()] for fld in lay.fields()}
                g = f.geometry()
                first["_wkbType"] = g.wkbType() if g else None
            n += 1
        r["iterated"] = n
        r["first"] = {k: (v if isinstance(v, (int, float, str, type(None))) else str(v)) for k, v in (first or {}).items()}
        r["crs"] = lay.crs().authid()
        r["fields"] = [fld.name() for fld in lay.fields()]
    return r


def wms(name):
    uri = "crs=EPSG:4326&format=image/png&layers=%s&styles=&url=%s/wms" % (name, base)
    if authcfg:
        uri = "authcfg=%s&" % authcfg + uri
    lay = QgsRasterLayer(uri, "r", "wms")
    r = {"valid": lay.isValid(), "layerError": err_text(lay)}
    if not lay.isValid():
        return r
    ext = lay.extent()
    r["extent"] = [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()]
    ms = QgsMapSettings()
    ms.setLayers([lay])
    ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    ms.setExtent(ext)
    ms.setOutputSize(QSize(512, 512))
    ms.setBackgroundColor(QColor(255, 255, 255, 0))
    job = QgsMapRendererParallelJob(ms)
    loop = QEventLoop()
    job.finished.connect(loop.quit)
    job.start()
    if job.isActive():
        loop.exec_()
    errs = [e.message for e in job.errors()]
    path = os.path.join(out_dir, "qgis-%s-wms-%s.png" % (who, name))
    saved = job.renderedImage().save(path, "PNG")
    r.update({"image": path if saved else "", "renderErrors": errs})
    return r


for name in names:
    guarded("wms:" + name, "QgsRasterLayer(crs=EPSG:4326&format=image/png&layers=%s&styles=&url=%s/wms, wms), rendered 512x512"
            % (name, base), lambda: wms(name))
    wfs_uri = "url=%s/wfs typename=munigis:%s version=2.0.0" % (base, name)
    if authcfg:
        wfs_uri = "authcfg=%s " % authcfg + wfs_uri
    guarded("wfs:" + name, "QgsVectorLayer(%s, WFS)" % wfs_uri, lambda: vector("WFS", wfs_uri))
    oapif_uri = "url=%s/ogc typename=%s" % (base, name)
    if authcfg:
        oapif_uri = "authcfg=%s " % authcfg + oapif_uri
    guarded("oapif:" + name, "QgsVectorLayer(%s, OAPIF)" % oapif_uri, lambda: vector("OAPIF", oapif_uri))

json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
print()
sys.stdout.flush()
# exitQgis() can crash on some builds after network use; the answer is out.
os._exit(0)
