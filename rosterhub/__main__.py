from rosterhub.cli.main import app

app()
