package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"munigis/layers"
)

func cmdLayer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	help := func() {
		fmt.Fprintln(stderr, `Usage:
  munigis layer list
  munigis layer types
  munigis layer define-type FILE.json     define a layer type (name, title_bg, title_en,
                                          geometry_type, attributes[]); "-" reads stdin
  munigis layer create --name N --type T --title-bg "..." --title-en "..." [--visibility public|internal]
                       [--min-zoom Z] [--max-zoom Z]`)
	}
	if len(args) == 0 {
		help()
		return usagef("say what to do with layers")
	}
	store, closeDB, err := openLayers(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	ctx = cliActor(ctx)

	switch args[0] {
	case "list":
		all, err := store.Layers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tVISIBILITY\tFEATURES\tTITLE")
		for _, l := range all {
			st, err := store.Stats(ctx, l)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", l.Name, l.TypeName, l.Visibility, st.Features, l.TitleBG)
		}
		return tw.Flush()
	case "types":
		all, err := store.Types(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	case "define-type":
		if len(args) != 2 {
			help()
			return usagef("define-type takes one FILE.json")
		}
		var r io.Reader = os.Stdin
		if args[1] != "-" {
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		var t layers.Type
		dec := json.NewDecoder(io.LimitReader(r, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return usagef("%s: not a layer type definition: %v", args[1], err)
		}
		if err := store.CreateType(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "layer type %s defined\n", t.Name)
		return nil
	case "create":
		fs := flag.NewFlagSet("layer create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var l layers.Layer
		var vis string
		fs.StringVar(&l.Name, "name", "", "layer name (lower-case latin, digits, _)")
		fs.StringVar(&l.TypeName, "type", "", "layer type")
		fs.StringVar(&l.TitleBG, "title-bg", "", "title in Bulgarian")
		fs.StringVar(&l.TitleEN, "title-en", "", "title in English")
		fs.StringVar(&vis, "visibility", "internal", "public or internal")
		fs.IntVar(&l.MinZoom, "min-zoom", 0, "smallest zoom at which the layer shows")
		fs.IntVar(&l.MaxZoom, "max-zoom", 22, "largest zoom at which the layer shows")
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("%v", err)
		}
		l.Visibility = layers.Visibility(vis)
		if err := store.CreateLayer(ctx, l); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "layer %s created\n", l.Name)
		return nil
	}
	help()
	return usagef("unknown layer command %q", args[0])
}
