from services.hitpoints.app import build
from services.hitpoints.settings import HitpointsSettings
from shared.runtime import serve

settings = HitpointsSettings()
serve(build(settings), settings)
