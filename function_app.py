"""The one FunctionApp: it only registers the blueprints in `functions/`."""

import azure.functions as func

from functions.api import bp as api_bp
from functions.health import bp as health_bp
from functions.pipeline import bp as pipeline_bp
from functions.sync import bp as sync_bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health_bp)
app.register_functions(api_bp)
app.register_functions(pipeline_bp)
app.register_functions(sync_bp)
