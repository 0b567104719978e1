"""RabbitMQ: topology, publishing with confirms, idempotent consumption."""
