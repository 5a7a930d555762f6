-- PostGIS, and the one EPSG code munigis accepts that PostGIS 3.3 lacks.
CREATE EXTENSION IF NOT EXISTS postgis;

-- EPSG:9391 (BGS2005 / UTM zone 35N, easting first) replaced the deprecated
-- EPSG:7804, whose parameters it shares; PostGIS 3.3 ships only 7804.
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
SELECT 9391, 'EPSG', 9391,
       replace(srtext, 'AUTHORITY["EPSG","7804"]', 'AUTHORITY["EPSG","9391"]'),
       proj4text
FROM spatial_ref_sys
WHERE srid = 7804
ON CONFLICT (srid) DO NOTHING;
