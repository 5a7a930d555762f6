// Package demo generates a synthetic but realistic Bulgarian municipality
// and loads it into the built-in layers, for development, demonstrations and
// load tests.
//
// The town is a grid of regulation quarters turned at a random angle and
// centred on the real town of the chosen EKATTE code (Троян by default),
// in EPSG:7801. Cadastral areas (501, 502, …) are blocks of 6×6 quarters,
// numbered outwards from the centre; the centre is zoned Ц, the ring around
// it Жс, an industrial wedge Пп, some areas Оз and the rest Жм. Each quarter
// is cut into lots fronting its two long streets, and those lots tile it
// exactly; parcels carry identifiers ЕКАТТЕ.район.имот numbered 1, 2, … per
// area, owners, uses and addresses on the streets they front. Buildings
// stand at least a metre inside their parcels; buildings of two or more
// units get their units. УПИ follow the parcels (a few take two), with
// their regulation lines, development-plan zones per quarter and ОУП zones
// per area. Under the named streets run water, sewer, power, gas, telecom
// and heating lines meeting at manholes. Around the town lies a ring of
// physical blocks: fields and pastures eligible for subsidy, and forest
// compartments.
//
// Everything is drawn from PCG streams keyed by the seed and by what is
// drawn (a quarter, a street segment, a block), never from map order, so
// the same options give the same data byte for byte, and any piece can be
// regenerated alone. Load uses that to stream each layer with its own COPY,
// regenerating the town as it goes instead of holding it in memory.
//
// # Loading
//
// All layers load in one transaction, each with one COPY … (FORMAT binary)
// whose stream is written by a goroutine as the rows are generated, with
// geometries as EWKB appended straight from the coordinates. That path was
// 3–6 % faster than pgx.CopyFrom with go-geom values through pgx-geom
// (42–43 s against 44–46 s for 100,000 parcels), and it is the one Load
// uses; the difference is small because the server is the bottleneck: the
// stamp trigger (with its validity check), the check constraints and the
// two GiST indexes of every feature table cost 50–110 µs a row, the
// generator about 1 µs. Measured on 2 shared cores: 20,000 parcels (125,000
// rows) in about 10 s, 200,000 in 89 s, 1,000,000 parcels (6.1 million
// rows) in 7 to 8 minutes, with the client steady at 28 MB. See
// BenchmarkLoad.
//
// Load refuses to write over existing features unless told to replace an
// earlier demo load, and never deletes features it did not create. Deleting
// goes through the history trigger, about 200 µs a feature, so replacing a
// town takes several times as long as loading it: for a big town, recreate
// the database instead.
package demo
