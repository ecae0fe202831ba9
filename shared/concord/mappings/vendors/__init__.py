"""One module per connector: `render(event, config)`, the requests that connector's mappers make
for a canonical event. A connector joins by adding its module here and one line in
concord.mappings.render.RENDERERS."""
