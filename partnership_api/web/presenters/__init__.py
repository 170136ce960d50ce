"""Per page, what its template shows: service results turned into words, rows and links.

Templates hold no logic and no access decision; what a page offers is asked of the policy
(through ``adapter.can``) here, and the services still decide when anything is used. One
module per area; this package's names are all of theirs.
"""

from partnership_api.web.presenters.beds import *  # noqa: F403
from partnership_api.web.presenters.common import *  # noqa: F403
from partnership_api.web.presenters.funding import *  # noqa: F403
from partnership_api.web.presenters.home import *  # noqa: F403
from partnership_api.web.presenters.inbox import *  # noqa: F403
from partnership_api.web.presenters.projects import *  # noqa: F403
from partnership_api.web.presenters.referral_new import *  # noqa: F403
from partnership_api.web.presenters.referrals import *  # noqa: F403
from partnership_api.web.presenters.refuges import *  # noqa: F403
from partnership_api.web.presenters.users import *  # noqa: F403
from partnership_api.web.presenters.words import *  # noqa: F403
