"""`streamlit run` in demo mode for the browser tests: nothing configured, and the embedded
database (store.DEFAULT_DB_PATH) moved to the test's folder, so the real server runs exactly the
first-run path of `streamlit run app.py` - demo data into an empty embedded file, demo accounts -
without touching the developer's data/lasnaolo.db.

    python tests/support/demo_server.py DB_PATH [streamlit run arguments…]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lasnaolo import store  # noqa: E402

store.DEFAULT_DB_PATH = Path(sys.argv[1])

from streamlit.web import cli  # noqa: E402

sys.argv = ["streamlit", "run", *sys.argv[2:]]
sys.exit(cli.main())
