package transcript

// ByConn keeps the lines of one connection name, in order.
func ByConn(lines []Line, conn string) []Line {
	return Filter(lines, func(l Line) bool { return l.Conn == conn })
}

// ByDir keeps the lines with the given dir (DirIn, DirOut, ...), in order.
func ByDir(lines []Line, dir string) []Line {
	return Filter(lines, func(l Line) bool { return l.Dir == dir })
}

// Frames returns the frame texts of one connection in one direction; an
// empty conn matches every connection.
func Frames(lines []Line, conn, dir string) []string {
	var out []string
	for _, l := range lines {
		if l.Dir == dir && (conn == "" || l.Conn == conn) {
			out = append(out, l.Frame)
		}
	}
	return out
}

// Conns lists the distinct connection names in order of first appearance.
func Conns(lines []Line) []string {
	seen := make(map[string]bool)
	var out []string
	for _, l := range lines {
		if !seen[l.Conn] {
			seen[l.Conn] = true
			out = append(out, l.Conn)
		}
	}
	return out
}

// Filter keeps the lines for which keep returns true, in order.
func Filter(lines []Line, keep func(Line) bool) []Line {
	var out []Line
	for _, l := range lines {
		if keep(l) {
			out = append(out, l)
		}
	}
	return out
}
