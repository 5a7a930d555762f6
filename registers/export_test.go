package registers

// SetProbeWindow lets a test shrink the window of Page's first look, so a
// handful of entries can stand for a big register; it returns the undo.
func SetProbeWindow(n int) func() {
	old := probeWindow
	probeWindow = n
	return func() { probeWindow = old }
}
