package messages

import "time"

// LogMaintenanceRun asks the chat-log maintainer (actors/logmaint) for a
// round now: create the months ahead and, with a retention set, drop the
// months past it (topic logmaint.run). It answers the sender with a
// *LogMaintenanceReport once a round that started after the request is done.
type LogMaintenanceRun struct{}

// LogMaintenanceReport is what one maintenance round did (topic
// logmaint.report).
type LogMaintenanceReport struct {
	At time.Time
	// Skipped is set when another daemon held the maintenance lock, so this
	// one left the work to it.
	Skipped bool
	Created []LogPartition
	Dropped []LogPartition
	Err     error
}

// LogPartition is one month of the chat log: the partition's name, its
// range [From, To) and the rows it held when dropped or was given from
// the DEFAULT partition when created.
type LogPartition struct {
	Name     string
	From, To time.Time
	Rows     int64
}
