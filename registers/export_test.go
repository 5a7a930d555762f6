package registers

// SetTextWindow lets a test shrink the window of Page's first look, so a
// handful of entries can stand for a big register; it returns the undo.
func SetTextWindow(n int) func() {
	old := textWindow
	textWindow = n
	return func() { textWindow = old }
}
