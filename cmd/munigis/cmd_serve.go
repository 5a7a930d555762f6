package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"munigis/audit"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/internal/postgis"
	"munigis/layers"
	"munigis/migrations"
	"munigis/registers"
	"munigis/registers/persons"
	"munigis/registers/property"
	"munigis/render"
	"munigis/tiles"
	"munigis/web"
	"munigis/web/ogcapi"
	"munigis/web/remote"
	"munigis/web/wfs"
	"munigis/web/wms"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: munigis serve\n\nServes on MUNIGIS_ADDR (default :8080) until interrupted (Ctrl-C), then finishes requests in flight.")
	}
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := cfg.logger(stderr)
	// The server runs as munigis_app, which may only read and append the
	// audit trail (migration 000004).
	//
	// Parallel query is off for the server's connections: it serves many
	// small queries at once (tiles, map images, feature pages), where the
	// cores are better spent on other requests than on workers for one.
	// On 2 cores it cost tile throughput up to 40 % (shared/reference/
	// ogc-and-tiles.md measured tegola and plain PostGIS alike).
	// MUNIGIS_DB_PARALLEL_WORKERS turns it back on for a bigger server.
	pool, err := postgis.Open(ctx, postgis.Config{URL: cfg.DatabaseURL, StatementTimeout: cfg.RequestTimeout,
		MaxConns: cfg.DBMaxConns, AppName: "munigis", Role: "munigis_app",
		Settings: map[string]string{"max_parallel_workers_per_gather": strconv.Itoa(cfg.DBParallelWorkers)}})
	if err != nil {
		return err
	}
	defer pool.Close()
	v, err := migrations.Version(ctx, pool)
	if err != nil {
		return err
	}
	if v < migrations.Latest() {
		return fmt.Errorf("the database schema is at version %d but this munigis needs %d; run `munigis migrate` first", v, migrations.Latest())
	}
	// Vector tiles: an in-memory cache that a dedicated connection keeps
	// true to the database (NOTIFY munigis_tiles, migration 000006), until
	// ctx ends.
	cacheBytes := int64(cfg.TileCacheMB) << 20
	if cacheBytes == 0 {
		cacheBytes = -1 // tiles.Config: negative turns the cache off
	}
	// One store for everything: it keeps the catalog in memory, and the
	// tile listener drops that copy when the database announces a change.
	store := layers.NewStore(pool)
	tiler := tiles.New(pool, store, tiles.Config{CacheBytes: cacheBytes})
	tiler.Listen(ctx, pool.Config().ConnConfig, log)
	// An edit through this process (WFS-T, OGC API) returns only once the
	// tile cache has dropped what it changed.
	store.OnEdit(tiler.Sync)
	// The OGC services, each in its own package under web/. Map images
	// are drawn in Go from PostGIS (package render).
	// Registers are map layers too: a write returns once the tiles of
	// their layers are dropped, like a feature edit.
	regs := registers.NewStore(pool)
	regs.OnWrite(tiler.Sync)
	// Documents, the official register and case files (issue 7). Case
	// files are a map layer too, so their writes wait for the tiles.
	docs := documents.NewStore(pool, documents.Config{MaxFileBytes: int64(cfg.MaxFileMB) << 20})
	regs.UseDocuments(docs) // file fields and dossiers, with the same limits
	cases := casefiles.NewStore(pool, docs, cfg.calendar())
	cases.OnWrite(tiler.Sync)
	wmsService := wms.New(wms.Deps{Layers: store, Log: log,
		Renderer: render.New(pool, store, render.Config{Timeout: cfg.RequestTimeout}),
		// Layers of other WMS servers (the cadastre agency's, say).
		Remote: remote.New(remote.Config{}),
		// GetFeatureInfo on a parcel lists its register entries and, for
		// staff, its case files.
		Related: relatedWithCases{regs: regs, cases: cases}})
	wfsService := wfs.New(wfs.Deps{Layers: store, Log: log})
	ogcService := ogcapi.New(ogcapi.Deps{Layers: store, Log: log})
	srv := web.New(web.Config{
		Addr: cfg.Addr, RequestTimeout: cfg.RequestTimeout, SecureCookies: cfg.SecureCookies, Version: version(),
		TileMaxAge: cfg.TileMaxAge, MaxFileBytes: int64(cfg.MaxFileMB) << 20, TrackPerMinute: cfg.TrackPerMinute,
	}, web.Deps{Layers: store, DB: pool, Log: log, Accounts: cfg.accounts(pool),
		Audit: audit.NewLog(pool), Tiles: tiler, WMS: wmsService, WFS: wfsService, OGCAPI: ogcService,
		Registers: regs, Persons: persons.NewStore(pool), Property: property.New(pool),
		Documents: docs, Cases: cases})
	return srv.ListenAndServe(ctx, func(addr string) {
		log.Info("munigis is serving", "addr", addr, "version", version())
		_, port, _ := net.SplitHostPort(addr)
		log.Info("the public sees public layers only; staff sign in at http://localhost:" + port +
			"/login or send an API token (munigis token create) as Authorization: Bearer")
		if os.Getenv("MUNIGIS_READY_FILE") != "" {
			// Lets tests and scripts learn the bound address of ":0".
			_ = os.WriteFile(os.Getenv("MUNIGIS_READY_FILE"), []byte(addr), 0o644)
		}
	})
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	pool, err := connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := migrations.Up(ctx, pool, func(m migrations.Migration) {
		fmt.Fprintf(stdout, "applying %06d_%s\n", m.Version, m.Name)
	})
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "the database is up to date (version %d)\n", migrations.Latest())
	}
	return nil
}

func cmdVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "munigis %s (schema %d)\n", version(), migrations.Latest())
	return nil
}
