"""The public directory of the partnership's services, in the Open Referral UK standard.

Read-only and unauthenticated, under ``/oruk``. It is built from an allow-list of columns
(``tables.py``) and fields (``serializer.py``): a refuge's location cannot appear because the
directory never reads it. Nothing here imports the referral, bed, hold, availability or user
models, the services layer or the policy (``tests/test_oruk.py`` checks the imports).
The app factory calls ``views.init_app``.
"""
