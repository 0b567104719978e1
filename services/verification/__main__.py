from services.verification.app import build
from services.verification.settings import VerificationSettings
from shared.runtime import serve

settings = VerificationSettings()
serve(build(settings), settings)
