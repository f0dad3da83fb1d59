import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useUser } from '../auth/useSession';
import { ErrorMessage } from '../components/Feedback';
import { usePatientSearch } from '../lib/patients';
import { useDebounced } from '../lib/useDebounced';
import { NewPatientForm } from './record/NewPatientForm';

/** Find a patient as you type (typo-tolerant) and open the record, or register a new one. */
export default function Patients() {
  const { t } = useTranslation();
  const user = useUser();
  const [registering, setRegistering] = useState(false);
  const [text, setText] = useState('');
  const q = useDebounced(text, 250);
  const results = usePatientSearch(q);
  return (
    <div className="patients">
      <h1>{t('patients.title')}</h1>
      <p>
        <button
          type="button"
          aria-expanded={registering}
          onClick={() => {
            setRegistering((open) => !open);
          }}
        >
          {t('patients.new')}
        </button>
      </p>
      {registering && (
        <NewPatientForm
          role={user.role}
          onClose={() => {
            setRegistering(false);
          }}
        />
      )}
      <div role="search" className="field">
        <label htmlFor="patient-search">{t('patients.search')}</label>
        <input
          id="patient-search"
          type="search"
          autoComplete="off"
          value={text}
          aria-describedby="patient-search-hint"
          onChange={(event) => {
            setText(event.target.value);
          }}
        />
        <p id="patient-search-hint" className="hint">
          {t('patients.searchHint')}
        </p>
      </div>
      <ErrorMessage error={results.error} />
      <p role="status" className="hint">
        {results.isFetching || text.trim() !== q.trim() ? t('patients.searching') : ''}
      </p>
      {/* Only answers to what is typed now: a click must never open a stale result. */}
      {text.trim() === q.trim() && !results.isPlaceholderData && (
        <PatientResults items={results.data} q={q} />
      )}
    </div>
  );
}

function PatientResults({
  items,
  q,
}: {
  items: ReturnType<typeof usePatientSearch>['data'];
  q: string;
}) {
  const { t } = useTranslation();
  if (!items) return null;
  if (items.length === 0) return <p>{t('patients.noResults', { q })}</p>;
  return (
    <section aria-labelledby="patient-results">
      <h2 id="patient-results">{t('patients.results')}</h2>
      <ul className="results">
        {items.map((patient) => (
          <li key={patient.id}>
            <Link to={`/patients/${patient.id}`}>
              <strong className="surname">{patient.last_name}</strong>, {patient.first_name}
            </Link>{' '}
            <span className="meta">
              {t('patients.mrn', { mrn: patient.mrn })}
              {patient.date_of_birth && ` · ${t('patients.born', { date: patient.date_of_birth })}`}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
