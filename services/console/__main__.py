import uvicorn

from services.console.app import build
from services.console.settings import ConsoleSettings

settings = ConsoleSettings()
uvicorn.run(build(settings), host=settings.http_host, port=settings.http_port, log_config=None, access_log=False,
            forwarded_allow_ips=settings.forwarded_allow_ips)
