"""The metrics warehouse: the database, migrations, recording, the spool, the views."""
