"""The web app's account pages (issue 22): confirm an e-mail address (and
the banner that asks for it), forgot and reset password, the invitations to
one's address (accept or decline, also from a mailed link), members (change
a role, remove), and switching between one's organisations.

Every rule stays where it lives: auth decides about addresses, passwords and
tokens (through :func:`invoicer.gateway.routes.ask_auth`, as the JSON API
does), the invoices service about invitations, members and organisations
(:mod:`.records`). The organisation a person works in is kept in the web
session (``organisation_id``) and sent with every records call as
``X-Organisation``, which the invoices service checks against the person's
memberships on every request.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue

from ...common.errors import ApiError
from .. import routes
from . import labels, session
from .blueprint import blueprint
from .records import RecordsError, RecordsUnavailable, records
from .refusals import flash_refusal

__all__ = ["account_status"]


def account_status() -> dict[str, Any] | None:
    """The signed-in account as auth's ``/me`` says (``email_verified``),
    asked at most once per request and not at all once the address is known
    verified in this browser's session; ``None`` when signed out or auth
    cannot say."""
    if session.current_claims() is None:
        return None
    if flask_session.get("email_verified"):
        return {"email_verified": True}
    if "account_status" not in g:
        try:
            status, body, _ = routes.ask_auth("/me", headers={"Authorization": f"Bearer {g.token}"}, method="GET")
        except ApiError:  # auth not answering: no banner rather than no page
            status, body = 503, {}
        g.account_status = body if status == 200 else None
        if status == 200 and body.get("email_verified"):
            flask_session["email_verified"] = True
    found: dict[str, Any] | None = g.account_status
    return found


def organisations() -> list[dict[str, Any]]:
    """The signed-in person's organisations (for the switcher), once per request."""
    if "organisations" not in g:
        try:
            g.organisations = records().get("/organisations", per_page=100)["items"]
        except (RecordsError, RecordsUnavailable):  # no switcher rather than no page
            g.organisations = []
    found: list[dict[str, Any]] = g.organisations
    return found


@blueprint.app_context_processor
def _account_globals() -> dict[str, Any]:
    return {
        "account_status": account_status,
        "my_organisations": organisations,
        "current_organisation": lambda: flask_session.get("organisation_id"),
    }


# --- e-mail verification ---------------------------------------------------------


@blueprint.route("/verify-email", methods=["GET", "POST"])
def verify_email() -> ResponseReturnValue:
    """The mailed link's page: a button confirms the address (a GET changes
    nothing, so a mail scanner opening the link spends no token)."""
    token = request.values.get("token", "")
    if request.method == "GET":
        return render_template("account/verify_email.html", token=token, done=None, error=None)
    status, body, _ = routes.ask_auth("/verify-email", json={"token": token})
    if status != 200:
        message = body.get("error", {}).get("message") or "The address could not be confirmed."
        return render_template("account/verify_email.html", token="", done=None, error=message), status
    flask_session["email_verified"] = True
    return render_template("account/verify_email.html", token="", done=body.get("email"), error=None)


@blueprint.post("/verify-email/resend")
@session.page_login_required
def resend_verification() -> ResponseReturnValue:
    """Mail a new confirmation link to the signed-in account."""
    status, body, _ = routes.ask_auth("/verify-email/resend", headers={"Authorization": f"Bearer {g.token}"})
    if status == 202:
        flash("A new confirmation link is on its way to your e-mail address.", "success")
    else:
        flash(body.get("error", {}).get("message") or "No link was sent.", "error")
    return redirect(session.safe_next(request.form.get("next"), url_for("web.dashboard")))


# --- forgot and reset password ----------------------------------------------------


@blueprint.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    if request.method == "GET":
        return render_template("account/forgot_password.html", email="", sent=False, error=None)
    email = (request.form.get("email") or "").strip()
    status, body, passed = routes.ask_auth(
        "/password-reset", headers={"X-Client-Address": request.remote_addr or ""}, json={"email": email}
    )
    if status == 202:
        return render_template("account/forgot_password.html", email=email, sent=True, error=None)
    message = body.get("error", {}).get("message") or "No link was sent."
    return render_template("account/forgot_password.html", email=email, sent=False, error=message), status, passed


@blueprint.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> ResponseReturnValue:
    """The mailed link's page: choose a new password (every session of the account ends)."""
    token = request.values.get("token", "")
    minimum = routes.services().settings.password_min_length
    if request.method == "GET":
        return render_template("account/reset_password.html", token=token, error=None, minimum=minimum)
    password = request.form.get("password", "")
    status, body, _ = routes.ask_auth("/password-reset/confirm", json={"token": token, "password": password})
    if status != 204:
        message = body.get("error", {}).get("message") or "The password was not changed."
        return render_template("account/reset_password.html", token=token, error=message, minimum=minimum), status
    response = session.end_session(redirect(url_for("web.login", password_reset=1)))
    session.rotate_csrf()
    return response


# --- invitations ------------------------------------------------------------------


@blueprint.get("/invitations")
@session.page_login_required
def invitations() -> ResponseReturnValue:
    """The open invitations to the signed-in address (after it is confirmed)."""
    try:
        items = records().get("/invitations", per_page=100)["items"]
        unverified = False
    except RecordsError as exc:
        if exc.code != "email_not_verified":
            raise
        items, unverified = [], True
    return render_template("account/invitations.html", invitations=items, unverified=unverified, roles=labels.ROLES)


@blueprint.get("/invitations/answer")
@session.page_login_required
def invitation_link() -> ResponseReturnValue:
    """The mailed link's page: who invites to what, then accept or decline
    (posting the link's token); nothing changes by opening it."""
    token = request.args.get("token", "")
    try:
        invitation, problem = records().post("/invitations/preview", {"token": token}), None
    except RecordsError as exc:
        if exc.status not in (403, 404, 422):
            raise
        invitation, problem = None, exc
    return render_template(
        "account/invitation_answer.html",
        token=token,
        invitation=invitation,
        unverified=problem is not None and problem.code == "email_not_verified",
        problem=problem.message if problem is not None else None,
        roles=labels.ROLES,
    )


@blueprint.post("/invitations/answer")
@session.page_login_required
@flash_refusal("web.invitations", prefix="Not answered: ", statuses=(403, 404, 409, 422))
def answer_invitation_link() -> ResponseReturnValue:
    """Accept or decline the invitation of a mailed link's token."""
    accept = request.form.get("answer") == "accept"
    done = records().post(
        "/invitations/accept" if accept else "/invitations/decline", {"token": request.form.get("token", "")}
    )
    return _answered(done)


@blueprint.post("/invitations/<invitation_id>/<answer>")
@session.page_login_required
@flash_refusal("web.invitations", prefix="Not answered: ", statuses=(403, 404, 409, 422))
def answer_invitation(invitation_id: str, answer: str) -> ResponseReturnValue:
    """Accept or decline one of the listed invitations."""
    if answer not in ("accept", "decline"):
        return redirect(url_for("web.invitations"))
    return _answered(records().post(f"/invitations/{invitation_id}/{answer}"))


def _answered(done: dict[str, Any]) -> ResponseReturnValue:
    name = done.get("organisation_name") or "the organisation"
    if done.get("status") == "accepted":
        flask_session["organisation_id"] = str(done["organisation_id"])
        flash(f"You joined {name}; you are working in it now.", "success")
        return redirect(url_for("web.dashboard"))
    flash(f"You declined the invitation of {name}.", "success")
    return redirect(url_for("web.invitations"))


# --- organisations: switch; members: role, remove ----------------------------------


@blueprint.post("/organisation/switch")
@session.page_login_required
def switch_organisation() -> ResponseReturnValue:
    """Work in another of one's organisations (the invoices service checks the membership on every request)."""
    wanted = request.form.get("organisation_id", "")
    if wanted not in {str(item["organisation_id"]) for item in organisations()}:
        flash("You are not a member of that organisation.", "error")
        return redirect(url_for("web.dashboard"))
    flask_session["organisation_id"] = wanted
    return redirect(url_for("web.dashboard"))


@blueprint.post("/organisation/members/<membership_id>/role")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Role not changed: ")
def change_member_role(membership_id: str) -> ResponseReturnValue:
    """Give a member another role (the last owner keeps theirs)."""
    done = records().patch(f"/organisation/members/{membership_id}", {"role": request.form.get("role", "")})
    flash(f"{done['email']} is now {labels.ROLES.get(done['role'], done['role']).lower()}.", "success")
    return redirect(url_for("web.organisation"))


@blueprint.post("/organisation/members/<membership_id>/remove")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Not removed: ")
def remove_member(membership_id: str) -> ResponseReturnValue:
    """Remove a member (never the last owner)."""
    records().delete(f"/organisation/members/{membership_id}")
    flash("Member removed.", "success")
    return redirect(url_for("web.organisation"))


@blueprint.post("/organisation/invitations/<invitation_id>/revoke")
@session.page_login_required
@flash_refusal("web.organisation", prefix="Not withdrawn: ")
def revoke_invitation(invitation_id: str) -> ResponseReturnValue:
    """Withdraw an open invitation; its link stops working."""
    records().delete(f"/organisation/invitations/{invitation_id}")
    flash("Invitation withdrawn.", "success")
    return redirect(url_for("web.organisation"))
