from services.publication.app import build
from services.publication.settings import PublicationSettings
from shared.runtime import serve

settings = PublicationSettings()
serve(build(settings), settings)
