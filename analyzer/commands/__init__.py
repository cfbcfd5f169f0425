"""Subcommands of the `layerscope` CLI, one module each (`read`; later flows, follow, report...)."""
