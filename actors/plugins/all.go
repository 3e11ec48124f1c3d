// Package plugins lists daz's feature plugins; the lead spawns them in each
// channel subtree (see pluginkit.HostProps).
package plugins

import (
	"github.com/daz-bot/daz/actors/plugins/about"
	"github.com/daz-bot/daz/actors/plugins/analytics"
	"github.com/daz-bot/daz/actors/plugins/customcmd"
	"github.com/daz-bot/daz/actors/plugins/help"
	"github.com/daz-bot/daz/actors/plugins/logger"
	"github.com/daz-bot/daz/actors/plugins/moderation"
	"github.com/daz-bot/daz/actors/plugins/ping"
	"github.com/daz-bot/daz/actors/plugins/pluginkit"
	"github.com/daz-bot/daz/actors/plugins/remind"
	"github.com/daz-bot/daz/actors/plugins/tell"
	"github.com/daz-bot/daz/actors/plugins/uptime"
	"github.com/daz-bot/daz/actors/plugins/web"
)

// All returns every plugin of one channel, in start order.
func All(deps pluginkit.Deps) []pluginkit.Spec {
	deps = deps.Shared()
	return []pluginkit.Spec{
		{Name: logger.Name, Props: logger.Props(deps)},
		{Name: ping.Name, Props: ping.Props(deps)},
		{Name: help.Name, Props: help.Props(deps)},
		{Name: uptime.Name, Props: uptime.Props(deps)},
		{Name: about.Name, Props: about.Props(deps)},
		{Name: customcmd.Name, Props: customcmd.Props(deps)},
		{Name: analytics.Name, Props: analytics.Props(deps)},
		{Name: tell.Name, Props: tell.Props(deps)},
		{Name: remind.Name, Props: remind.Props(deps)},
		{Name: moderation.Name, Props: moderation.Props(deps)},
		{Name: web.Name, Props: web.Props(deps)},
	}
}
