from services.reporting.app import build
from services.reporting.settings import ReportingSettings
from shared.runtime import serve

settings = ReportingSettings()
serve(build(settings), settings)
