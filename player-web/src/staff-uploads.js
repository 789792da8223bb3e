// Staff page 上传与任务 (/staff/uploads/): upload e-books and monthly bundles, follow their
// ingest jobs, read a bundle's per-row report, and look at (and correct) the resources made.
// Staff with the content or admin role only; sign-in is staff-session.js.
//
// The parts, each wired to its own elements (uploads/):
//   upload-queue.js     files chosen or dropped, sent one at a time with XHR upload progress
//   job-list.js         the job list, polled; retry and cancel
//   job-result.js       a done job's result: a file's outcome, a bundle's per-row report
//   resource-list.js    the newest resources
//   resource-dialog.js  one resource's details and corrections (#resource-<id>)
// Nothing here writes style="" attributes (CSP); progress bars set element.style.width from
// script, which the CSP allows.
import './uploads-page.css';
import { ApiError } from './api.js';
import { $, show } from './dom.js';
import { staffSession } from './staff-session.js';
import { createJobList } from './uploads/job-list.js';
import { createResourceDialog } from './uploads/resource-dialog.js';
import { createResourceList } from './uploads/resource-list.js';
import { createUploadQueue } from './uploads/upload-queue.js';

const SESSION_ENDED = '登录已失效，请重新登录';

const denied = $('denied-panel');
const workspace = $('workspace');

let signedIn = false; // a staff member who may upload is in: polling and uploads run
const isSignedIn = () => signedIn;

/** Any 401 from the API while working: the session ended (expired, signed out elsewhere). */
function authLost(e) {
  if (e instanceof ApiError && e.status === 401) {
    if (signedIn) session.showLogin(SESSION_ENDED);
    return true;
  }
  return false;
}

const resources = createResourceList({ authLost });
const dialog = createResourceDialog({ isSignedIn, authLost, onSaved: resources.replace });
const jobs = createJobList({
  isSignedIn,
  authLost,
  uploadsBusy: () => uploads.busy(),
  onIngested: resources.refreshSoon,
});
const uploads = createUploadQueue({
  isActive: isSignedIn,
  authLost,
  onSending: () => jobs.schedulePoll(),
  onUploaded: jobs.addUploads,
});

function canUpload(p) {
  const roles = Array.isArray(p.roles) ? p.roles : [];
  return roles.includes('content') || roles.includes('admin');
}

const session = staffSession({
  panels: [workspace, denied],
  onStaff: (p) => {
    if (!canUpload(p)) {
      show(workspace, false);
      show(denied, true);
      return;
    }
    show(denied, false);
    show(workspace, true);
    signedIn = true;
    jobs.start();
    resources.load(false);
    dialog.openFromHash();
  },
  onLeave: () => {
    signedIn = false;
    jobs.stop();
    dialog.close();
  },
  onLogout: () => uploads.abortAll(),
});

session.start();
