from services.publication.app import build
from services.publication.settings import PublicationSettings
from shared.runtime import serve

settings = PublicationSettings()
# RDAP_TRUSTED_PROXIES alone decides whose X-Forwarded-For the rate limit reads (api.py)
serve(build(settings), settings, proxy_headers=False)
