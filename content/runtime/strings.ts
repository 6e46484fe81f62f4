/**
 * Words of the AU pages themselves (not of the courses). Used by the builder for the static
 * markup and bundled into runtime.js for the messages the script shows. The LMS's own strings
 * live in locales/; these ship inside packages that other institutions may run elsewhere.
 */
export const UI = {
  es: {
    minutes: 'Tiempo estimado: {n} minutos',
    objectives: 'Objetivos de la lección',
    finishHint: 'Cuando haya leído toda la lección, márquela como completada.',
    complete: 'Marcar la lección como completada',
    completedMsg: 'Lección completada. Su progreso quedó registrado.',
    lessonOf: 'Lección {n} de {total}',
    completedNext:
      'Lección {n} de {total} completada. Su progreso quedó registrado. Salga para seguir con la lección {next} desde el curso.',
    exitNext: 'Salir y seguir con la lección siguiente',
    completedOffline: 'Lección leída. Sin conexión con la plataforma, no se registró el progreso.',
    exit: 'Salir y volver al curso',
    question: 'Pregunta {n} de {total}',
    pickOne: 'Elija una respuesta.',
    pickMany: 'Elija todas las respuestas que correspondan.',
    submit: 'Enviar respuestas',
    retry: 'Repetir con otras preguntas',
    drawing: 'Preparando sus preguntas…',
    platformOnly:
      'Las preguntas de esta evaluación las elige al azar y las corrige la plataforma de aprendizaje: ábrala desde la página del curso para responder.',
    drawFailed: 'No se pudieron obtener las preguntas ({reason}). Vuelva a abrir la evaluación desde el curso.',
    unanswered: 'Faltan respuestas en: {list}. Responda todas las preguntas antes de enviar.',
    resultTitle: 'Resultado',
    result: 'Respondió bien {raw} de {max} preguntas ({pct} %). Se necesita {mastery} % para aprobar.',
    passed: 'Aprobó la evaluación.',
    failed: 'Todavía no aprobó. Revise las explicaciones y vuelva a intentarlo.',
    recorded: 'El resultado quedó registrado en la plataforma.',
    failPending: 'Este resultado se registrará al salir. Si vuelve a intentarlo y aprueba en esta sesión, se registra la aprobación.',
    notRecorded:
      'Este intento no se registra en la plataforma (sólo un intento registrado por sesión; salga y vuelva a abrir la evaluación desde el curso para otro intento registrado).',
    alreadyPassed: 'Ya aprobó esta evaluación; este intento es de práctica y no cambia su resultado.',
    right: 'Respuesta correcta.',
    wrong: 'Respuesta incorrecta.',
    yourChoice: 'Su elección',
    connecting: 'Conectando con la plataforma de aprendizaje…',
    connected: 'Conectado. Su progreso se registra.',
    resumed: 'Continúa donde lo dejó: «{section}».',
    standalone:
      'Esta página no se abrió desde la plataforma de aprendizaje: puede leerla, pero su progreso no se registra. Para que cuente, ábrala desde la página del curso.',
    failedConnect:
      'No se pudo conectar con la plataforma de aprendizaje ({reason}). Puede leer el contenido, pero su progreso no se registra. Vuelva a abrir la actividad desde el curso.',
    saveFailed: 'No se pudo registrar en la plataforma ({reason}). Compruebe su conexión e inténtelo de nuevo.',
    browseMode: 'Modo de consulta: puede revisar el contenido; no se registran resultados.',
    exiting: 'Cerrando la sesión…',
    closed: 'Sesión cerrada. Ya puede cerrar esta ventana.',
    language: 'Idioma',
    table: 'Tabla {n}',
  },
  pt: {
    minutes: 'Tempo estimado: {n} minutos',
    objectives: 'Objetivos da lição',
    finishHint: 'Quando tiver lido toda a lição, marque-a como concluída.',
    complete: 'Marcar a lição como concluída',
    completedMsg: 'Lição concluída. Seu progresso foi registrado.',
    lessonOf: 'Lição {n} de {total}',
    completedNext: 'Lição {n} de {total} concluída. Seu progresso foi registrado. Saia para seguir com a lição {next} a partir do curso.',
    exitNext: 'Sair e seguir para a próxima lição',
    completedOffline: 'Lição lida. Sem conexão com a plataforma, o progresso não foi registrado.',
    exit: 'Sair e voltar ao curso',
    question: 'Pergunta {n} de {total}',
    pickOne: 'Escolha uma resposta.',
    pickMany: 'Escolha todas as respostas que se aplicam.',
    submit: 'Enviar respostas',
    retry: 'Refazer com outras perguntas',
    drawing: 'Preparando suas perguntas…',
    platformOnly:
      'As perguntas desta avaliação são sorteadas e corrigidas pela plataforma de aprendizagem: abra-a pela página do curso para responder.',
    drawFailed: 'Não foi possível obter as perguntas ({reason}). Abra a avaliação novamente pelo curso.',
    unanswered: 'Faltam respostas em: {list}. Responda todas as perguntas antes de enviar.',
    resultTitle: 'Resultado',
    result: 'Você acertou {raw} de {max} perguntas ({pct} %). É preciso {mastery} % para ser aprovado.',
    passed: 'Você foi aprovado na avaliação.',
    failed: 'Ainda não foi aprovado. Revise as explicações e tente novamente.',
    recorded: 'O resultado foi registrado na plataforma.',
    failPending: 'Este resultado será registrado ao sair. Se tentar novamente e for aprovado nesta sessão, a aprovação é registrada.',
    notRecorded:
      'Esta tentativa não é registrada na plataforma (só uma tentativa registrada por sessão; saia e abra a avaliação de novo a partir do curso para outra tentativa registrada).',
    alreadyPassed: 'Você já foi aprovado nesta avaliação; esta tentativa é de prática e não muda seu resultado.',
    right: 'Resposta correta.',
    wrong: 'Resposta incorreta.',
    yourChoice: 'Sua escolha',
    connecting: 'Conectando à plataforma de aprendizagem…',
    connected: 'Conectado. Seu progresso está sendo registrado.',
    resumed: 'Continue de onde parou: «{section}».',
    standalone:
      'Esta página não foi aberta pela plataforma de aprendizagem: você pode lê-la, mas seu progresso não é registrado. Para que conte, abra-a pela página do curso.',
    failedConnect:
      'Não foi possível conectar à plataforma de aprendizagem ({reason}). Você pode ler o conteúdo, mas seu progresso não é registrado. Abra a atividade novamente pelo curso.',
    saveFailed: 'Não foi possível registrar na plataforma ({reason}). Verifique sua conexão e tente de novo.',
    browseMode: 'Modo de consulta: você pode revisar o conteúdo; resultados não são registrados.',
    exiting: 'Encerrando a sessão…',
    closed: 'Sessão encerrada. Você já pode fechar esta janela.',
    language: 'Idioma',
    table: 'Tabela {n}',
  },
  en: {
    minutes: 'Estimated time: {n} minutes',
    objectives: 'Lesson objectives',
    finishHint: 'When you have read the whole lesson, mark it as completed.',
    complete: 'Mark the lesson as completed',
    completedMsg: 'Lesson completed. Your progress has been recorded.',
    lessonOf: 'Lesson {n} of {total}',
    completedNext: 'Lesson {n} of {total} completed. Your progress has been recorded. Exit to go on with lesson {next} from the course.',
    exitNext: 'Exit and go on to the next lesson',
    completedOffline: 'Lesson read. Not connected to the platform, so progress was not recorded.',
    exit: 'Exit and return to the course',
    question: 'Question {n} of {total}',
    pickOne: 'Choose one answer.',
    pickMany: 'Choose all the answers that apply.',
    submit: 'Submit answers',
    retry: 'Try again with other questions',
    drawing: 'Preparing your questions…',
    platformOnly:
      'The questions of this assessment are drawn at random and scored by the learning platform: open it from the course page to answer.',
    drawFailed: 'Could not get the questions ({reason}). Open the assessment again from the course.',
    unanswered: 'Missing answers in: {list}. Answer every question before submitting.',
    resultTitle: 'Result',
    result: 'You answered {raw} of {max} questions correctly ({pct} %). {mastery} % is needed to pass.',
    passed: 'You passed the assessment.',
    failed: 'You have not passed yet. Review the explanations and try again.',
    recorded: 'The result has been recorded on the platform.',
    failPending: 'This result will be recorded when you exit. If you try again and pass in this session, the pass is recorded.',
    notRecorded:
      'This attempt is not recorded on the platform (one recorded attempt per session; exit and open the assessment again from the course for another recorded attempt).',
    alreadyPassed: 'You have already passed this assessment; this attempt is practice and does not change your result.',
    right: 'Correct answer.',
    wrong: 'Incorrect answer.',
    yourChoice: 'Your choice',
    connecting: 'Connecting to the learning platform…',
    connected: 'Connected. Your progress is being recorded.',
    resumed: 'Picking up where you left off: “{section}”.',
    standalone:
      'This page was not opened from the learning platform: you can read it, but your progress is not recorded. To make it count, open it from the course page.',
    failedConnect:
      'Could not connect to the learning platform ({reason}). You can read the content, but your progress is not recorded. Open the activity again from the course.',
    saveFailed: 'Could not record on the platform ({reason}). Check your connection and try again.',
    browseMode: 'Browse mode: you can review the content; no results are recorded.',
    exiting: 'Closing the session…',
    closed: 'Session closed. You can close this window now.',
    language: 'Language',
    table: 'Table {n}',
  },
} as const;

export type UiLang = keyof typeof UI;
export type UiKey = keyof (typeof UI)['es'];

export function fmt(template: string, vars: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export const ENDONYMS: Record<UiLang, string> = { es: 'Español', pt: 'Português', en: 'English' };
