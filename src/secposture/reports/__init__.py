"""Reports: a ScanReport rendered for a terminal, a machine, a code-scanning service or a person;
and the register's records as people read them (`register_text`: tables and JSON; `issue_report`:
a security issue as the report the Security team receives)."""
