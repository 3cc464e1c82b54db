"""``make bench``: the whole story of a rush on one event, told in one run.

For each stack in turn (the default one: SQLite and a per-process cache;
then PostgreSQL and Redis), in a process of its own with a fresh embedded
MongoDB and gunicorn (``loadtests.stack``), the same crowd on every path:
150 clients released together, 600 distinct users, 4 to a client, on one
event of 500 seats (``crowds``):

1. the engine's ceiling for one write: the textbook plain guarded
   ``findOneAndUpdate`` from 150 threads through pymongo, on a scratch
   embedded server of its own (``writes``);
2. the site's own single ledger write, ``ledger_strategies.get("atomic")
   .take_seat``, from 150 threads on the stack's ledger (``writes``);
3. RSVPs over HTTP (``POST /api/events/<id>/rsvp``, Bearer tokens) from 150
   clients while 20 readers load the event page and the home page in a
   loop, the readers alone for a phase first (``rush``);
4. the ratios, within that stack's run: HTTP over 1, HTTP over 2, each
   page's p99 in the rush over alone (``report``);
5. ledger writes per RSVP: the event's ``version`` before and after the
   rush (``rush``);
6. on the default stack only, last: one RSVP and one home page at a time,
   with no other events and with 5,000 past ones (``scaling``).

Every crowd ends with its check (the ledger holds exactly the users told
"confirmed", once each, within capacity, nobody refused while a seat was
free); a failed check exits 1. The targets are reported, never asserted.
PostgreSQL or Redis not answering: that stack is reported as not run, with
the reason; its database and Redis database are the run's own and removed
(``scratch``). Output in ``var/bench/``: ``results.md`` (a table per stack,
the ratios, the targets), ``results.json``, ``bench.png``. About 4 minutes.

The old parts that still tell something are opt-in, on a stack of their own
(``extras``): ``BENCH_LEVELS=1`` for one RSVP, join and cancel by people
listed (10 to 10,000), ``BENCH_HISTORY=1`` for costs by the site's history
before and after the history fix (the ledger's guard in the filter, an upsert
per RSVP). The old (a) and (b) (the raw op and HTTP through
the page form, 100 clients) are items 2 and 3 now, and (g)'s mixed rush is
item 3's readers beside the RSVPs, with a phase alone to compare with.

Modules, Django-free: ``command`` (the stacks' children, the outside
databases, the exit code), ``stack_run`` (one stack's child: it starts the
stack, then imports the steps below), ``context`` (settings), ``scratch``,
``report`` (results.md, JSON, chart), ``extras_report``, ``history_report``.
Using Django's models and the ledger, so imported only once the stack is up:
``story`` (items 1 to 6), ``supplies`` (the run's events, users, problems),
``crowds``, ``writes``, ``rush``, ``scaling``; the extras: ``extras``,
``levels``, ``history``, ``clicks`` (the pages' forms), ``profile`` (py-spy).
"""
