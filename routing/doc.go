// Package routing is Parley's Redis routing core.
package routing
