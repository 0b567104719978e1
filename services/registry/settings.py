from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    http_port: int = 8001
    tlds: tuple[str, ...] = ("be",)
    # make run seeds a demo registrar so a person can try the platform at once (README: demo registrar)
    seed_demo_registrar: bool = False
    demo_registrar_id: str = Field(default="a100001", pattern=r"^[a-z0-9][a-z0-9-]{2,31}$")
    demo_registrar_name: str = "Demo Registrar BV"
    demo_web_password: SecretStr = SecretStr("Demo-Web-2026")
    demo_epp_password: SecretStr = SecretStr("Demo-Epp-2026")
