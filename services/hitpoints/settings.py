from shared.settings import ServiceSettings


class HitpointsSettings(ServiceSettings):
    service_name: str = "hitpoints"
    http_port: int = 8002
