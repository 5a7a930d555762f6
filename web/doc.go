// Package web is the only package that speaks HTTP: the JSON API, the
// health check, and (in later issues) tiles, WMS/WFS and OGC API under it.
//
// Every route is listed in routes.go. Handlers return errors; one adapter
// (errors.go) maps munigis error codes to HTTP statuses and never sends
// database text to a client. What a caller may see is decided by package
// access, from the Viewer the auth middleware puts in the request context.
package web
