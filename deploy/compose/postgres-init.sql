-- One database per service (each service owns its data).
CREATE DATABASE identity;
CREATE DATABASE organisations;
CREATE DATABASE requests;
CREATE DATABASE notifier;
CREATE DATABASE edge;
\connect organisations
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
\connect postgres
CREATE DATABASE eid_gateway;
