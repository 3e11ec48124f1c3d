package pluginkit

import (
	"github.com/asynkron/protoactor-go/actor"
)

// Kind is the actor kind every plugin shows on the tree; the plugin's name
// is in its State.
const Kind = "plugin"

// Props builds a plugin's Props through actorkit.
func Props(deps Deps, producer func() actor.Actor) *actor.Props {
	return deps.System.Props(Kind, producer)
}
