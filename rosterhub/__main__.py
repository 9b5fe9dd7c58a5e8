from rosterhub.children import bind_to_supervisor
from rosterhub.cli.main import app

bind_to_supervisor()  # a child of `rosterhub run` dies with it (rosterhub.children)
app()
