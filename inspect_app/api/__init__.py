"""The JSON API under ``/api/v1``: flask-smorest set-up shared by every domain's resources."""
