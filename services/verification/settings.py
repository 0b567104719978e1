from shared.settings import ServiceSettings


class VerificationSettings(ServiceSettings):
    service_name: str = "verification"
    http_port: int = 8003
