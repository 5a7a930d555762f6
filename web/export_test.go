package web

// TilePath exposes tilePath to the tests.
var TilePath = tilePath
