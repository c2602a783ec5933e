"""`recruit run`: Flask's development server, serving on its own address by default.

Without a configured PUBLIC_URL, links in e-mails and PDFs point at the address the server
listens on (http://127.0.0.1:PORT), and both 127.0.0.1 and localhost are accepted as hosts,
so a newcomer's browser works either way. Flask's options are kept as they are.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo
from flask.cli import run_command as flask_run


@click.pass_context
def _run(ctx: click.Context, **options):
    from recruit.config import serve_on_port

    # The app is loaded once and kept by ScriptInfo, so Flask's command serves this one.
    app = ctx.ensure_object(ScriptInfo).load_app()
    serve_on_port(app, port=options["port"])
    click.echo(f" * Public address: {app.config['PUBLIC_URL']}")
    ctx.invoke(flask_run, **options)


run = click.Command("run", callback=_run, params=list(flask_run.params), help=flask_run.help,
                    short_help=flask_run.short_help)
