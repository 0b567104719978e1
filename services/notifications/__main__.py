from services.notifications.app import build
from services.notifications.settings import NotificationsSettings
from shared.runtime import serve

settings = NotificationsSettings()
serve(build(settings), settings)
