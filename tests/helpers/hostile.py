"""Text a hostile person might type: markup, a template expression, an attribute breaking out of its quotes."""

HOSTILE_TEXTS = ("<script>alert(1)</script>", "{{ 7*7 }}", '"><img src=x onerror=alert(1)>')
