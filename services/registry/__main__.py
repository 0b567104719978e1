from services.registry.app import build
from services.registry.settings import RegistrySettings
from shared.runtime import serve

settings = RegistrySettings()
serve(build(settings), settings)
