"""`secposture serve`: the dashboard over the register (issue 6). FastAPI, Jinja2 pages rendered
on the server, one local style sheet and one small local script, charts as inline SVG.

Routes (the least role each needs; see auth.py for the matrix and ADR 0008 for why):

    GET  /healthz                         anyone       "ok", for the proxy in front
    GET  /login, POST /login              anyone       local sign-in (rate limited, two
                                                       password checks at a time)
    GET  /login/oidc, GET /auth/callback  anyone       OIDC sign-in (when configured)
    POST /logout                          signed in    ends the session
    GET  /                                viewer       estate: heatmap, compliance, trend
                                                       (?q=TEXT filters repositories, ?failing=1
                                                       keeps those failing a required control)
    GET  /repository?name=OWNER/REPO      viewer       each control with evidence and the fix
    GET  /products                        viewer       products with threat-model/ITHC status
    POST /products                        architect    add a product
    GET  /products/{id}                   viewer       a product (issues and risks: architect)
    POST /products/{id}                   architect    change owner, classification, repos
    POST /products/{id}/threat-models     engineer     record a threat-model review
    POST /products/{id}/assurances        architect    record an ITHC or pen test
    POST /products/{id}/changes           architect    record a major change
    GET  /due?within=DAYS                 viewer       overdue and due soon (issues, risks and
                                                       waivers only for architect and up)
    GET  /issues                          architect    security issues (?status=, ?product=)
    GET  /issues/new, POST /issues        engineer     the six-field form; raising one
    GET  /issues/{id}                     engineer*    the issue and the report to send
    GET  /issues/{id}/report.md|.eml      engineer*    the report as a download
                                                       (* an engineer: only issues they raised,
                                                       a linked risk as its number and status)
    POST /issues/{id}/close               architect    fixed, duplicate, not a problem
    POST /issues/{id}/cannot-fix          architect    closes it and adds a linked risk
    GET  /risks                           architect    filter, sort, 50 a page (?status=
                                                       current|open|accepted|closed|all,
                                                       register, product, owner, treatment,
                                                       min_score, text, review_due, sort, desc,
                                                       page)
    GET  /risks/export.csv                architect    the filtered list as CSV
    GET  /risks/new, POST /risks          architect    add a risk
    GET  /risks/{id}                      architect    a risk with its history
    POST /risks/{id}/review|close|actions architect    review, close, add an action
    POST /risks/{id}/accept               security     accept the residual risk
    GET  /waivers, POST /waivers          architect    list (?show=all) and add
    POST /waivers/{id}/retire             architect    withdraw a waiver
    GET  /users, POST /users              admin        accounts
    POST /users/{id}/role|status          admin        change a role; disable or enable
    GET  /static/...                      anyone       style.css, app.js

Every POST needs the session's CSRF token (the hidden `csrf_token` field every form has).
Forms, buttons and tables carry stable `id`s and `data-testid`s for the end-to-end tests.

Modules: app (create_app), settings, auth (roles, sessions, OIDC), accounts (users), security
(CSRF, headers, rate limit), queries (estate, trend), charts (SVG), rendering (templates,
heatmap), forms, context (shared dependencies), routes/*, models (accounts tables), cli.
"""
