from connectors.cli.main import app

app(prog_name="coach")
