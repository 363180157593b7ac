from coach.cli import app

app(prog_name="coach")
