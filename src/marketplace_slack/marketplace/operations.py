"""The operation table: every Marketplace API operation the client implements, and the method that does.

Method names follow the spec's ``operationId`` in snake_case, so the spec is the index to the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# Where the client method is not simply snake_case(operationId).
_METHOD_NAMES: Final = {"user": "get_current_user"}


@dataclass(frozen=True)
class Operation:
    """One API operation: ``method`` + ``path`` template (relative to the ``/marketplace`` base)."""

    operation_id: str
    method: str
    path: str

    @property
    def client_method(self) -> str:
        """Name of the :class:`MarketplaceClient` method that performs this operation."""
        return _METHOD_NAMES.get(self.operation_id) or _snake(self.operation_id)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


OPERATIONS: dict[str, Operation] = {}
"""Every operation the client covers, keyed by ``operationId``."""


def _op(operation_id: str, method: str, path: str) -> Operation:
    operation = Operation(operation_id, method, path)
    OPERATIONS[operation_id] = operation
    return operation


# Access requests and approval records.
SEARCH_ACCESS_REQUESTS = _op("searchAccessRequests", "GET", "/api/access-request")
GET_APPROVED_MASKING_EXCEPTION_COLUMNS = _op(
    "getApprovedMaskingExceptionColumns", "GET", "/api/access-request/approved-masking-exception-columns"
)
GET_ACCESS_REQUEST_BY_ID = _op("getAccessRequestById", "GET", "/api/access-request/{id}")
CANCEL_ACCESS_REQUEST = _op("cancelAccessRequest", "DELETE", "/api/access-request/{id}")
GET_ACCESS_REQUEST_RECORDS = _op("getAccessRequestRecords", "GET", "/api/access-request/{id}/records")
GET_RISK_ASSESSMENT = _op("getRiskAssessment", "GET", "/api/access-request/{id}/risk-assessment")
SEARCH_ACCESS_REQUEST_MASKING_EXCEPTION_COLUMNS = _op(
    "searchAccessRequestMaskingExceptionColumns", "GET", "/api/access-request/{id}/masking-exception-columns"
)
UPDATE_APPROVAL_RECORD = _op("updateApprovalRecord", "PUT", "/api/approval-record/{id}")
# Data products.
SEARCH_DATA_PRODUCTS = _op("searchDataProducts", "GET", "/api/data-product")
CREATE_DATA_PRODUCT = _op("createDataProduct", "POST", "/api/data-product")
GET_DATA_PRODUCT_BY_ID = _op("getDataProductById", "GET", "/api/data-product/{id}")
UPDATE_DATA_PRODUCT = _op("updateDataProduct", "PUT", "/api/data-product/{id}")
DELETE_DATA_PRODUCT = _op("deleteDataProduct", "DELETE", "/api/data-product/{id}")
GET_DATA_PRODUCT_BY_NAME = _op("getDataProductByName", "GET", "/api/data-product/{name}/byName")
UPDATE_DATA_SOURCES = _op("updateDataSources", "PUT", "/api/data-product/{id}/datasources")
SEARCH_DATA_SOURCES = _op("searchDataSources", "GET", "/api/data-product/{id}/datasources")
GET_ALL_DATA_SOURCES = _op("getAllDataSources", "GET", "/api/data-product/{id}/datasources/all")
SEARCH_DATA_PRODUCT_ACCESS_REQUESTS = _op(
    "searchDataProductAccessRequests", "GET", "/api/data-product/{id}/request"
)
REQUEST_ACCESS = _op("requestAccess", "POST", "/api/data-product/{id}/request")
SEARCH_DATA_PRODUCT_MEMBERS = _op("searchDataProductMembers", "GET", "/api/data-product/{id}/members")
REQUEST_MASKING_EXCEPTION = _op(
    "requestMaskingException", "POST", "/api/data-product/{id}/request/masking-exception"
)
REVOKE_ACCESS = _op("revokeAccess", "DELETE", "/api/data-product/{id}/request/{requestId}")
RECENT_DETERMINATIONS = _op("recentDeterminations", "GET", "/api/data-product/{id}/recent-determinations")
GET_REQUEST_FORMS = _op("getRequestForms", "GET", "/api/data-product/{id}/request-forms")
SEARCH_DATA_PRODUCT_COLUMNS = _op("searchDataProductColumns", "GET", "/api/data-product/{id}/columns")
# Metadata.
GET_AVAILABLE_DOMAINS = _op("getAvailableDomains", "GET", "/api/metadata/domain")
GET_DOMAIN = _op("getDomain", "GET", "/api/metadata/domain/{id}")
GET_DOMAIN_DATA_SOURCES = _op("getDomainDataSources", "GET", "/api/metadata/domain/{id}/datasources")
GET_IMMUTA_USERS = _op("getImmutaUsers", "GET", "/api/metadata/users")
GET_IMMUTA_GROUPS = _op("getImmutaGroups", "GET", "/api/metadata/groups")
GET_IMMUTA_ATTRIBUTES = _op("getImmutaAttributes", "GET", "/api/metadata/attributes")
GET_IMMUTA_TAGS = _op("getImmutaTags", "GET", "/api/metadata/tags")
# Notifications and webhooks.
GET_USER_PREFERENCES = _op("getUserPreferences", "GET", "/api/notification/user-preferences")
UPDATE_USER_PREFERENCES = _op("updateUserPreferences", "PUT", "/api/notification/user-preferences")
GET_WEBHOOKS = _op("getWebhooks", "GET", "/api/notification/webhook")
CREATE_WEBHOOK = _op("createWebhook", "POST", "/api/notification/webhook")
GET_WEBHOOK = _op("getWebhook", "GET", "/api/notification/webhook/{id}")
UPDATE_WEBHOOK = _op("updateWebhook", "PUT", "/api/notification/webhook/{id}")
DELETE_WEBHOOK = _op("deleteWebhook", "DELETE", "/api/notification/webhook/{id}")
GET_WEBHOOK_HISTORY = _op("getWebhookHistory", "GET", "/api/notification/webhook/{id}/history")
TEST_WEBHOOK = _op("testWebhook", "POST", "/api/notification/webhook/{id}/test")
TEST_WEBHOOK_CONFIG = _op("testWebhookConfig", "POST", "/api/notification/webhook/test")
# Data use agreements.
CREATE_DATA_USE_AGREEMENT = _op("createDataUseAgreement", "POST", "/api/data-use-agreement")
SEARCH_DATA_USE_AGREEMENTS = _op("searchDataUseAgreements", "GET", "/api/data-use-agreement")
GET_DATA_USE_AGREEMENT_BY_ID = _op("getDataUseAgreementById", "GET", "/api/data-use-agreement/{id}")
UPDATE_DATA_USE_AGREEMENT = _op("updateDataUseAgreement", "PUT", "/api/data-use-agreement/{id}")
DELETE_DATA_USE_AGREEMENT = _op("deleteDataUseAgreement", "DELETE", "/api/data-use-agreement/{id}")
GET_ASSOCIATED_REQUEST_FORMS = _op(
    "getAssociatedRequestForms", "GET", "/api/data-use-agreement/{id}/request-forms"
)
# Request forms.
CREATE_REQUEST_FORM = _op("createRequestForm", "POST", "/api/request-form")
SEARCH_REQUEST_FORMS = _op("searchRequestForms", "GET", "/api/request-form")
GET_REQUEST_FORM_BY_ID = _op("getRequestFormById", "GET", "/api/request-form/{id}")
UPDATE_REQUEST_FORM = _op("updateRequestForm", "PUT", "/api/request-form/{id}")
DELETE_REQUEST_FORM_BY_ID = _op("deleteRequestFormById", "DELETE", "/api/request-form/{id}")
GET_REQUEST_FORM_BY_VERSION = _op("getRequestFormByVersion", "GET", "/api/request-form/version/{version}")
GET_DATA_PRODUCTS = _op("getDataProducts", "GET", "/api/request-form/{id}/data-products")
# Auth and settings.
GET_CURRENT_USER = _op("user", "GET", "/api/auth/user")
GET_FRONTEND_SETTINGS = _op("getFrontendSettings", "GET", "/api/settings/frontend")
