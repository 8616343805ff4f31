import { createContext } from "react";

/** Whether the app-wide approvals stream (opened once in the shell) is connected. */
export const ApprovalsLiveContext = createContext(false);
